/**
 * automl-nb in JupyterLab: a left sidebar "AutoML searches" that lists every search under
 * the server's root, live (polled every 2 s from the server extension automl_nb.server),
 * with Pause / Resume / Stop (sent through the search's inbox) and Open (a new notebook
 * attached to the search, its panel shown); and a launcher card "AutoML search" that opens
 * a starter notebook.
 */
import {
  ILabShell,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { URLExt } from '@jupyterlab/coreutils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { ILauncher } from '@jupyterlab/launcher';
import { NotebookActions, NotebookPanel } from '@jupyterlab/notebook';
import { ServerConnection } from '@jupyterlab/services';
import { LabIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

const POLL_MS = 2000;
const OPEN_COMMAND = 'automl-nb:open-search';
const STARTER_COMMAND = 'automl-nb:new-search';

const ICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">' +
  '<g class="jp-icon3" fill="#616161">' +
  '<rect x="3" y="13" width="4" height="8" rx="1"/>' +
  '<rect x="10" y="8" width="4" height="13" rx="1"/>' +
  '<rect x="17" y="3" width="4" height="18" rx="1"/></g></svg>';

const icon = new LabIcon({ name: 'automl-nb:icon', svgstr: ICON_SVG });

/** One search, as GET /automl-nb/searches gives it (automl_nb.doors.SearchSummary). */
interface ISearch {
  path: string;
  name: string;
  state: string;
  best_score: number | null;
  objective: string;
  trials: number;
  trials_budget: number | null;
  time_budget_s: number | null;
  time_used_s: number | null;
  time_left_s: number | null;
  data: string;
  owner: { alive: boolean; pid: number; host: string; process: string } | null;
}

async function request<T>(endpoint: string, init: RequestInit = {}): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, 'automl-nb', endpoint);
  const response = await ServerConnection.makeRequest(url, init, settings);
  let data: any = {};
  try {
    data = await response.json();
  } catch (e) {
    data = {};
  }
  if (!response.ok) {
    throw new Error(data.message || data.reason || response.statusText);
  }
  return data as T;
}

function post<T>(endpoint: string, body: object): Promise<T> {
  return request<T>(endpoint, { method: 'POST', body: JSON.stringify(body) });
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) {
    return '';
  }
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) {
    return `${s}s`;
  }
  if (s < 3600) {
    return `${Math.floor(s / 60)}m ${s % 60}s`;
  }
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** The share of the budget used, 0..1 (trials, or time when that is the budget), or null. */
export function progress(s: ISearch): number | null {
  const parts: number[] = [];
  if (s.trials_budget) {
    parts.push(s.trials / s.trials_budget);
  }
  if (s.time_budget_s && s.time_used_s !== null) {
    parts.push(s.time_used_s / s.time_budget_s);
  }
  if (!parts.length) {
    return s.state === 'done' ? 1 : null;
  }
  return Math.min(1, Math.max(...parts));
}

const LIVE = ['running', 'paused', 'stopping'];

/** The sidebar: one card a search, redrawn from each poll. */
class SearchesPanel extends Widget {
  constructor(private app: JupyterFrontEnd) {
    super();
    this.id = 'automl-nb-searches';
    this.title.icon = icon;
    this.title.caption = 'AutoML searches';
    this.addClass('amnb-lab-sidebar');
    const title = document.createElement('div');
    title.className = 'amnb-lab-title';
    title.textContent = 'AutoML searches';
    this._message.className = 'amnb-lab-message';
    this.node.append(title, this._message, this._list);
    void this.refresh();
    this._timer = window.setInterval(() => void this.refresh(), POLL_MS);
  }

  dispose(): void {
    window.clearInterval(this._timer);
    super.dispose();
  }

  say(text: string): void {
    this._message.textContent = text;
  }

  async refresh(): Promise<void> {
    if (this._busy) {
      return;
    }
    this._busy = true;
    try {
      const data = await request<{ searches: ISearch[] }>('searches');
      this.render(data.searches);
    } catch (e) {
      this.say(`could not list the searches: ${(e as Error).message}`);
    } finally {
      this._busy = false;
    }
  }

  render(searches: ISearch[]): void {
    this._list.replaceChildren();
    if (!searches.length) {
      const empty = document.createElement('div');
      empty.className = 'amnb-lab-empty';
      empty.textContent =
        'No search under this folder yet: start one from a notebook, the launcher, ' +
        'or the shell (python -m automl_nb search ...).';
      this._list.append(empty);
      return;
    }
    for (const s of searches) {
      this._list.append(this.card(s));
    }
  }

  card(s: ISearch): HTMLElement {
    const card = document.createElement('div');
    card.className = 'amnb-lab-search';
    card.dataset.path = s.path;
    card.dataset.state = s.state;

    const name = document.createElement('div');
    name.className = 'amnb-lab-name';
    name.textContent = s.name;
    name.title = s.path;
    const state = document.createElement('span');
    state.className = 'amnb-lab-state';
    state.dataset.state = s.state;
    state.textContent = s.state;
    name.append(state);

    const score = document.createElement('div');
    score.className = 'amnb-lab-line amnb-lab-score';
    const best = s.best_score === null ? '–' : s.best_score.toFixed(4);
    const trials = s.trials_budget ? `${s.trials}/${s.trials_budget}` : `${s.trials}`;
    score.textContent = `best ${s.objective} ${best} · ${trials} trials`;

    const bar = document.createElement('div');
    bar.className = 'amnb-lab-progress';
    const fill = document.createElement('div');
    const share = progress(s);
    fill.style.width = `${Math.round((share ?? 0) * 100)}%`;
    bar.append(fill);
    bar.title = share === null ? 'no budget' : `${Math.round(share * 100)}% of the budget`;

    const time = document.createElement('div');
    time.className = 'amnb-lab-line amnb-lab-time';
    const bits = [s.data];
    if (s.time_used_s !== null) {
      bits.push(`${formatDuration(s.time_used_s)} used`);
    }
    if (s.time_left_s !== null && LIVE.includes(s.state)) {
      bits.push(`${formatDuration(s.time_left_s)} left`);
    }
    time.textContent = bits.filter(Boolean).join(' · ');

    const buttons = document.createElement('div');
    buttons.className = 'amnb-lab-buttons';
    const live = s.owner !== null && s.owner.alive && LIVE.includes(s.state);
    const button = (label: string, enabled: boolean, act: () => Promise<void>) => {
      const b = document.createElement('button');
      b.textContent = label;
      b.disabled = !enabled;
      b.onclick = () => {
        b.disabled = true;
        void act().finally(() => void this.refresh());
      };
      buttons.append(b);
    };
    button('Pause', live && s.state === 'running', () => this.command(s, 'pause'));
    button('Resume', live && s.state === 'paused', () => this.command(s, 'resume'));
    button('Stop', live && s.state !== 'stopping', () => this.command(s, 'stop'));
    button('Open', true, async () => {
      await this.app.commands.execute(OPEN_COMMAND, { path: s.path });
    });

    card.append(name, score, bar, time, buttons);
    return card;
  }

  async command(s: ISearch, command: string): Promise<void> {
    try {
      const answer = await post<{ message: string }>('command', { path: s.path, command });
      this.say(`${s.name}: ${answer.message}`);
    } catch (e) {
      this.say(`${s.name}: ${(e as Error).message}`);
    }
  }

  private _list = document.createElement('div');
  private _message = document.createElement('div');
  private _timer = 0;
  private _busy = false;
}

/** Open the notebook at ``path`` (relative to the root) and run all its cells. */
async function openAndRun(app: JupyterFrontEnd, path: string): Promise<void> {
  const widget = (await app.commands.execute('docmanager:open', {
    path,
    factory: 'Notebook'
  })) as NotebookPanel;
  await widget.context.ready;
  await widget.sessionContext.ready;
  await NotebookActions.runAll(widget.content, widget.sessionContext);
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'automl-nb:plugin',
  description: 'The AutoML searches sidebar and the AutoML search launcher card.',
  autoStart: true,
  optional: [ILabShell, ILauncher, IDefaultFileBrowser],
  activate: (
    app: JupyterFrontEnd,
    labShell: ILabShell | null,
    launcher: ILauncher | null,
    browser: IDefaultFileBrowser | null
  ) => {
    const panel = new SearchesPanel(app);

    app.commands.addCommand(OPEN_COMMAND, {
      label: 'Open an AutoML search in a notebook',
      execute: async args => {
        try {
          const made = await post<{ path: string }>('open', { path: String(args.path) });
          await openAndRun(app, made.path);
        } catch (e) {
          panel.say(`could not open ${String(args.path)}: ${(e as Error).message}`);
        }
      }
    });

    app.commands.addCommand(STARTER_COMMAND, {
      label: 'AutoML search',
      caption: 'A starter notebook: an AutoML search on your data, with its live panel',
      icon,
      execute: async () => {
        const cwd = browser ? browser.model.path : '';
        const made = await post<{ path: string }>('starter', { cwd });
        return app.commands.execute('docmanager:open', { path: made.path, factory: 'Notebook' });
      }
    });

    if (launcher) {
      launcher.add({ command: STARTER_COMMAND, category: 'Notebook', rank: 10 });
    }
    if (labShell) {
      app.shell.add(panel, 'left', { rank: 800 });
    }
  }
};

export default plugin;
