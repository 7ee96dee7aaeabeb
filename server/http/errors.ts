import type { FastifyError, FastifyInstance } from 'fastify';
import type { Logger } from '../logger/index.js';

/** The body of every HTTP error: a stable code for programs, a message for people. */
export interface HttpErrorBody {
	error: { code: string; message: string };
}

export function errorBody(code: string, message: string): HttpErrorBody {
	return { error: { code, message } };
}

/** Maps framework and unexpected errors to stable codes; never leaks internals. */
export function installErrorHandlers(app: FastifyInstance, logger: Logger): void {
	app.setNotFoundHandler((request, reply) => {
		void reply.code(404).send(errorBody('not_found', `no route for ${request.method} ${request.routeOptions.url ?? 'this path'}`));
	});

	app.setErrorHandler((error: FastifyError, request, reply) => {
		if (error.validation) {
			return reply.code(400).send(errorBody('invalid_request', error.message));
		}
		switch (error.code) {
			case 'FST_ERR_CTP_BODY_TOO_LARGE':
				return reply.code(413).send(errorBody('payload_too_large', 'request body is too large'));
			case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
				return reply.code(415).send(errorBody('unsupported_media_type', 'send application/json'));
			case 'FST_ERR_CTP_EMPTY_JSON_BODY':
			case 'FST_ERR_CTP_INVALID_JSON_BODY':
				return reply.code(400).send(errorBody('invalid_json', 'request body is not valid JSON'));
		}
		if (error instanceof SyntaxError) {
			return reply.code(400).send(errorBody('invalid_json', 'request body is not valid JSON'));
		}
		const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
		if (status === 500) logger.error({ err: error, route: request.routeOptions.url }, 'unhandled HTTP error');
		return reply.code(status).send(errorBody(status === 500 ? 'internal_error' : 'bad_request', status === 500 ? 'internal server error' : error.message));
	});
}
