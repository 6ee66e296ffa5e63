export { type Authorization, type AuthorizeOptions, authorize, type ClaimValue } from './authorize.js';
export { VerifyError, type VerifyErrorCode } from './errors.js';
export { sessiondMiddleware } from './express.js';
export { sessiondAuth } from './fastify.js';
export type { FeedStatus } from './revocation-feed.js';
export {
  type CustomClaims,
  createVerifier,
  type VerifiedClaims,
  type Verifier,
  type VerifierOptions,
  type WhileStreamDown,
} from './verifier.js';
export { type VerifyOptions, verifyAccessToken } from './verify-access-token.js';
