"""The index: `Index` (`index`) over sparse BM25 (`sparse`) and dense vectors (`dense`, `embed`,
`onnx_model`), fused (`fusion`), cached and stored (`cache`, `store`), sharded (`shards`),
with its `BuildReport` (`build_report`), the `Candidate` sentences it surfaces (`candidate`) and
uploads committed with an index generation (`upload`)."""
