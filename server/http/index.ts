export { HttpServer } from './HttpServer.js';
export type { HttpServerOptions, HttpServerDeps } from './HttpServer.js';
export type { HealthReport, HealthSource, Readiness } from './health.js';
export { errorBody } from './errors.js';
export type { HttpErrorBody } from './errors.js';
export { registerDemoRoutes } from './demo.js';
export type { DemoRoutesOptions } from './demo.js';
export { registerRecordingRoutes } from './recordings.js';
export type { RecordingRoutesDeps } from './recordings.js';
