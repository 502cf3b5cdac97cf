// Every Proxy-Wasm export, for filters that want the whole set (the test filters). The bundled
// filters export abi-lifecycle.ts and the callbacks they implement instead.
export * from "./abi-lifecycle"; // first: see proxy_on_context_create
export * from "./callbacks/request-headers";
export * from "./callbacks/request-body";
export * from "./callbacks/request-trailers";
export * from "./callbacks/request-metadata";
export * from "./callbacks/response-headers";
export * from "./callbacks/response-body";
export * from "./callbacks/response-trailers";
export * from "./callbacks/response-metadata";
export * from "./callbacks/log";
export * from "./callbacks/done";
