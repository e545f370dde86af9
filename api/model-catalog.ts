import { listPipelines, loadPipeline } from '../services/pipelines';
import type { Pipeline } from '../lib/pipeline';
import { HttpError } from './http-errors';

/** How long the list of pipelines/ is trusted before it is read again (a new pipeline needs no restart). */
const LIST_TTL_MS = 5_000;
/**
 * How old a listing may be when a name is not in it: a new pipeline is seen within a second, and
 * a batch of entries naming an unknown model lists pipelines/ once, not once per entry.
 */
const UNKNOWN_RELIST_MS = 1_000;

/**
 * The models this API serves: the pipelines of the project (`pipelines/<model>.ts`). A name is
 * checked against the listing before anything is built from it, so a path such as `../x`
 * is an unknown model, never a key or a file.
 */
export class ModelCatalog {
  private names: Set<string> = new Set();
  private listedAt = 0;
  private readonly loaded = new Map<string, Promise<Pipeline>>();

  constructor(private readonly projectDir: string) {}

  /** The model names, sorted. */
  list(): string[] {
    this.refresh(LIST_TTL_MS);
    return [...this.names].sort();
  }

  /** Whether `model` is one of the project's pipelines. */
  has(model: string): boolean {
    this.refresh(this.names.has(model) ? LIST_TTL_MS : UNKNOWN_RELIST_MS);
    return this.names.has(model);
  }

  /** Throws a 404 naming the known models when `model` is not one of them. */
  require(model: string): void {
    if (!this.has(model)) throw unknownModel(model, this.list());
  }

  /** The validated pipeline definition (loaded once per process, like a worker does). */
  async pipeline(model: string): Promise<Pipeline> {
    this.require(model);
    let p = this.loaded.get(model);
    if (!p) {
      p = loadPipeline(this.projectDir, model);
      p.catch(() => this.loaded.delete(model));
      this.loaded.set(model, p);
    }
    return p;
  }

  /** Lists pipelines/ again when the listing is older than `maxAgeMs`. */
  private refresh(maxAgeMs: number): void {
    if (Date.now() - this.listedAt < maxAgeMs) return;
    this.names = new Set(listPipelines(this.projectDir));
    this.listedAt = Date.now();
  }
}

/** 404 for a model that has no pipeline. */
export function unknownModel(model: string, known: string[]): HttpError {
  const shown = model.length > 80 ? `${model.slice(0, 80)}…` : model;
  return new HttpError(
    404,
    'UnknownModel',
    `unknown model "${shown}"; known models: ${known.join(', ') || 'none (add pipelines/<model>.ts)'}`,
  );
}
