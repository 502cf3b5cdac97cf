;; The 1-filter benchmark's header edit written by hand, with no SDK: +1 request header and
;; +1 response header, and the lifecycle callbacks every SDK exports, doing nothing. Compared
;; with the AssemblyScript `headers` filter it separates what the host costs per filter from
;; what an SDK's runtime costs (`npm run bench -- --only sluice-0,sluice-1-wat,sluice-1`).
(module
  (import "env" "proxy_add_header_map_value" (func $add (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "x-bench1")      ;; name 7 bytes, value "1"
  (data (i32.const 120) "x-proxysluice") ;; name 7 bytes, value "sluice"
  (func (export "malloc") (param i32) (result i32) (i32.const 2048))
  (func (export "proxy_abi_version_0_2_0"))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (drop (call $add (i32.const 0) (i32.const 100) (i32.const 7) (i32.const 107) (i32.const 1)))
    (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
    (drop (call $add (i32.const 2) (i32.const 120) (i32.const 7) (i32.const 127) (i32.const 6)))
    (i32.const 0))
  (func (export "proxy_on_log") (param i32))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_delete") (param i32))
)
