import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';

/*
 * Workflows validate pipelines and run the gate, so they need metric and drift-test names, but
 * never the statistics themselves: the bundle is loaded into every workflow sandbox, so it
 * should hold only what workflows run. The names live in name-only modules
 * (lib/metrics/names.ts, lib/drift/stattest-names.ts); this checks the engines stay out.
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
    expect(modules).toContain('./lib/pipeline.ts');
    expect(modules).toContain('./lib/gate.ts');
    expect(modules).toContain('./lib/metrics/names.ts');
    expect(modules).toContain('./lib/drift/stattest-names.ts');
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
