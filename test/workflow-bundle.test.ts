import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';

/*
 * The bundle's own modules are loaded again for every run a worker starts, so it holds only what
 * workflows run. They run the gate, so they need metric names, but never the statistics
 * themselves: names live in name-only modules (lib/metrics/names.ts); this checks the engines stay
 * out. Input is checked by the worker (activities/run-input.ts), so the pipeline schema and the
 * schema library stay out too.
 */

/** Module ids of a webpack bundle: each module starts with a line `/***\/ "./path/from/root.ts"`. */
function bundledModules(code: string): string[] {
  return [...code.matchAll(/^\/\*{3}\/ "([^"]+)":?$/gm)].map((m) => m[1]);
}

const ENGINE_MODULES = [
  './lib/drift/ks.ts',
  './lib/drift/kstwo.ts',
  './lib/drift/smirnov.ts',
  './lib/drift/special.ts',
  './lib/drift/stattests.ts',
  './lib/drift/binning.ts',
  './lib/drift/sort.ts',
  './lib/drift/dataset-drift.ts',
  './lib/drift/report.ts',
  './lib/metrics.ts',
  './lib/metrics/index.ts',
  './lib/metrics/classification.ts',
  './lib/metrics/regression.ts',
  './lib/metrics/compensated-sum.ts',
];

describe('workflow bundle', () => {
  const modules = bundledModules(readFileSync(inject('workflowBundlePath'), 'utf8'));

  it('lists its modules by path (so the checks below look at real module ids)', () => {
    expect(modules).toContain('./workflows/index.ts');
    expect(modules).toContain('./lib/gate.ts');
    expect(modules).toContain('./lib/metrics/names.ts');
    expect(modules.some((m) => m.includes('/node_modules/@temporalio/workflow/'))).toBe(true);
  });

  it('holds no schema library and no schema: runs check their input in the worker', () => {
    expect(modules.filter((m) => m.includes('/node_modules/zod/'))).toEqual([]);
    expect(modules).not.toContain('./lib/pipeline.ts');
    expect(modules).not.toContain('./lib/time-window.ts');
  });

  it('holds no drift-statistics or metric-engine module', () => {
    expect(modules.filter((m) => ENGINE_MODULES.includes(m))).toEqual([]);
    // Anything new under lib/drift or lib/metrics is an engine unless it is a names module.
    const names = ['./lib/drift/stattest-names.ts', './lib/metrics/names.ts'];
    expect(modules.filter((m) => /^\.\/lib\/(drift\/|metrics)/.test(m) && !names.includes(m))).toEqual([]);
  });

  it('holds no descriptive-statistics library', () => {
    expect(modules.filter((m) => m.includes('/node_modules/simple-statistics/'))).toEqual([]);
  });
});
