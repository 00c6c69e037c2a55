export { createRelay, RELAY_SERVER_OPTIONS, type Relay, type RelayCensusRecord, type RelayCounters, type RelayEnding, type RelayOutcome, type UpstreamErrorEvent } from './relay.js';
export type { RelayOptions, ResolvedRelayOptions } from './options.js';
export { routeFor, RELAY_CUTS, type RelayCut, type RelayRoute } from './route.js';
export { createProxyHeaderAcceptor, proxiedPeer, setProxiedPeer, type ProxyHeaderAcceptor, type ProxyHeaderAcceptorOptions, type ProxyHeaderRefusal } from './accept-proxy.js';
export {
  encodeProxyV1,
  encodeProxyV2,
  encodeProxyV2Local,
  readProxyHeader,
  ProxyHeaderReader,
  PROXY_HEADER_DEFAULT_MAX,
  PROXY_V1_MAX_LENGTH,
  PROXY_V2_MAX_LENGTH,
  PROXY_V2_SIGNATURE,
  type Endpoint,
  type ProxyAddress,
  type ProxyHeader,
  type ProxyHeaderRead,
  type ProxyRefusal,
} from './proxy-protocol.js';
export { parseHostPort, formatHostPort, type HostPort } from './address.js';
