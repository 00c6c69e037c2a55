export {
  BROWSER_FAMILIES,
  DEFAULT_LEGACY_PROTOCOLS,
  DEFAULT_USER_AGENT_POLICY,
  buildPolicy,
  compareVersions,
  parseVersion,
  type BrowserFamily,
  type ClassificationPolicy,
  type PolicyInput,
  type UserAgentPolicyOverrides,
} from './policy.js';
export { MAX_CACHED_USER_AGENTS, MAX_USER_AGENT_LENGTH, parseUserAgent } from './user-agent.js';
export { classifyClient, classifyClientInfo, isInterceptedOrSpoofed, isLegacyClient } from './classify.js';
