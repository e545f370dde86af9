import { mkdir, rm } from 'node:fs/promises';

/**
 * Runs `body` in a fresh scratch directory and removes it afterwards, failed or not: a worker
 * that keeps retrying must not fill its disk with copies of training data (errors already
 * carry the command's stderr tail).
 */
export async function inScratchDir<T>(dir: string, body: () => Promise<T>): Promise<T> {
  await mkdir(dir, { recursive: true });
  try {
    return await body();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
