import { z } from 'zod';
import type { ModelVersion, RegistryChange } from '../../lib/registry';
import type { Assert, Equals } from '../../lib/type-check';

/* The registry's records (lib/registry.ts) as the API documents them. */

export const modelVersionSchema = z
  .object({
    model: z.string(),
    version: z.string().describe('Derived from the inputs of training: same inputs, same version.'),
    createdAt: z.string(),
    task: z.enum(['classification', 'regression']),
    artifacts: z.record(z.string(), z.string()).describe('Store keys of the model’s files, by artefact name (at least `model`).'),
    classes: z.array(z.string()).nullable(),
    trainMetrics: z.record(z.string(), z.number()),
    lineage: z.object({
      datasetSha256: z.string(),
      datasetKey: z.string(),
      trainKey: z.string(),
      holdoutKey: z.string(),
      rows: z.object({ train: z.number().int(), holdout: z.number().int() }),
      features: z.array(z.object({ name: z.string(), type: z.string() })),
      label: z.string(),
      params: z.record(z.string(), z.unknown()),
      seed: z.number(),
      trainingCommand: z.array(z.string()),
      trainingCodeVersion: z.string(),
      libraryVersions: z.record(z.string(), z.string()),
      workflowId: z.string(),
      runId: z.string(),
    }),
  })
  .meta({ id: 'ModelVersion', description: 'One trained model in the registry, with everything needed to say where it came from.' });

export const registryChangeSchema = z
  .object({
    action: z.enum(['promote', 'rollback']),
    from: z.string().nullable(),
    to: z.string().nullable().describe('null only when a first champion is withdrawn and nothing came before it.'),
    at: z.string(),
    reason: z.string(),
    actor: z.string().describe('Who or what made the change: a workflow id, or a person for manual rollbacks.'),
    eventId: z.string().describe('Makes the change idempotent: applying the same event twice changes nothing.'),
  })
  .meta({ id: 'RegistryChange', description: 'One promotion or rollback in a champion pointer’s history.' });

type _ModelVersion = Assert<Equals<z.infer<typeof modelVersionSchema>, ModelVersion>>;
type _RegistryChange = Assert<Equals<z.infer<typeof registryChangeSchema>, RegistryChange>>;
