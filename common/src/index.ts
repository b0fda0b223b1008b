export * from './config.ts';
export * from './logger.ts';
export * from './errors.ts';
export * from './ops.ts';
export * from './events.ts';
export * from './process.ts';
