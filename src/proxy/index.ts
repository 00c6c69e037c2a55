/** `legacy-tls-fallback/proxy`: the standalone proxy as a library, to embed in a server of your own or to start whole. */
export { createProxyHandler, type ProxyHandler, type ProxyHandlerOptions } from './handler.js';
export { resolveProxyConfig, PROXY_OPTIONS, defaultHttpPort, type ProxyConfig, type ProxyOptions, type ProxyLogger, type RunningProxy, type ListenAddress } from './config.js';
export { startProxy } from './app.js';
