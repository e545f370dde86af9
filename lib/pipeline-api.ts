/**
 * What a pipeline file (`pipelines/<model>.ts`) imports as `retrain/pipeline`: the function that
 * declares a pipeline, the types of what it takes and gives back, and the names its fields accept.
 * The schema, the parser and the source helpers of lib/pipeline.ts stay internal, so they can
 * change without breaking anyone's pipelines.
 */
export { definePipeline, type Pipeline, type PipelineInput } from './pipeline';
export type { FeatureKind } from './feature-kind';
export type { MetricName, Task } from './metrics/names';
export type { StattestName } from './drift/stattest-names';
