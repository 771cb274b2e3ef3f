import { STATUS_CODES } from 'node:http';
import { PROBLEM_JSON, problemDetails } from '@portcullis/core';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/** Sends RFC 9457 problem details with the status's own title. */
export function sendProblem(reply: FastifyReply, status: number, detail: string): FastifyReply {
  const problem = { ...problemDetails(status, detail), title: STATUS_CODES[status] ?? 'Error' };
  return reply.code(status).type(PROBLEM_JSON).send(JSON.stringify(problem));
}

/**
 * Errors of the gateway's own (a malformed request line or header, a guard that threw) as problem
 * details, like every other answer the gateway makes itself. A 4xx says what was wrong with the
 * request; a 5xx says nothing of the cause (it goes to the log, not to the client).
 */
export function problemErrorHandler(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 500;
  if (status >= 500) {
    reply.log.error(error);
    return sendProblem(reply, status, 'The gateway failed to handle this request');
  }
  return sendProblem(reply, status, error.message);
}

/** Paths the gateway does not serve, as problem details (without echoing the path). */
export function problemNotFound(_request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendProblem(reply, 404, 'Nothing here: the gateway serves /health, /api/* and /demo/*');
}
