import { createWriteStream, type WriteStream } from 'node:fs';

/**
 * Appends text to a file, waiting when the disk falls behind (so memory holds what one write
 * gave, not the file), and failing the next write or close when the file cannot be written.
 */
export class TextFileWriter {
  private readonly stream: WriteStream;
  private error: Error | null = null;

  constructor(path: string) {
    this.stream = createWriteStream(path);
    this.stream.on('error', (err) => (this.error ??= err));
  }

  async write(text: string | Uint8Array): Promise<void> {
    if (this.error) throw this.error;
    if (text.length > 0 && !this.stream.write(text)) await this.drained();
    if (this.error) throw this.error;
  }

  /** Resolves when the stream drains or fails (one pair of listeners per wait, removed after). */
  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.stream.off('drain', done);
        this.stream.off('error', done);
        resolve();
      };
      this.stream.on('drain', done);
      this.stream.on('error', done);
    });
  }

  async close(): Promise<void> {
    if (this.error) throw this.error;
    await new Promise<void>((resolve, reject) => this.stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }

  /** Stops writing after a failure elsewhere (the caller removes the file). */
  destroy(): void {
    this.stream.destroy();
  }
}
