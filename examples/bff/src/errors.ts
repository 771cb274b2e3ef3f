import {
  isBatchTimeoutError,
  isInvalidBatchResultError,
  isLoaderAbortedError,
  isTooManyKeysError,
} from '@portcullis/dataloader-guard';
// graphql-yoga's own constructor: `graphql` can be loaded twice (its ESM and CJS builds), and an
// error from the other copy would be masked as "Unexpected error.".
import { createGraphQLError } from 'graphql-yoga';

/**
 * A loader's failure as a GraphQL error the client can act on (codes in `extensions.code`); other
 * errors are left as they are, and graphql-yoga masks them ("Unexpected error.").
 */
export function toGraphQLError(error: unknown): unknown {
  if (isTooManyKeysError(error)) {
    return createGraphQLError(
      `This query asks for more than ${String(error.maxKeys)} items; ask for fewer (paginate).`,
      {
        extensions: { code: 'TOO_MANY_ITEMS', maxItems: error.maxKeys },
      },
    );
  }
  if (isBatchTimeoutError(error)) {
    return createGraphQLError('Not fetched within the query deadline.', {
      extensions: { code: error.deadline ? 'DEADLINE_EXCEEDED' : 'UPSTREAM_TIMEOUT' },
    });
  }
  if (isLoaderAbortedError(error)) {
    return createGraphQLError('The request ended before this was fetched.', { extensions: { code: 'ABORTED' } });
  }
  return error;
}

/** `null` for an id the service does not know (a `Map` answer without it), the error otherwise. */
export function nullIfMissing(error: unknown): null {
  if (isInvalidBatchResultError(error) && error.reason === 'missing') return null;
  throw toGraphQLError(error);
}
