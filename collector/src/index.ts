export { buildCollector, type Collector, type CollectorDeps } from './app.ts';
export { collectorConfigProblems, collectorConfigShape, type CollectorConfig } from './config.ts';
export { ExportPipeline } from './pipeline.ts';
export { Redactor, REDACTED, DEFAULT_REDACT_KEYS } from './redact.ts';
export { mapExport, inferLayer, LAYERS, type Layer } from './map.ts';
export { decodeExport } from './decode.ts';
export { validateExport } from './validate.ts';
