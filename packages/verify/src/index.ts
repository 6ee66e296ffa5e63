export { type Authorization, authorize } from './authorize.js';
export { VerifyError, type VerifyErrorCode } from './errors.js';
export { sessiondMiddleware } from './express.js';
export { sessiondAuth } from './fastify.js';
export type { FeedStatus } from './revocation-feed.js';
export { createVerifier, type Verifier, type VerifierOptions, type WhileStreamDown } from './verifier.js';
export { type VerifyOptions, verifyAccessToken } from './verify-access-token.js';
