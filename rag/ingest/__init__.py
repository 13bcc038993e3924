"""Reading articles in: decoding and reading files (`corpus`), cleaning (`clean`), upload limits
(`limits`), sentence and passage splitting (`passages`), tokens (`text`, `tokens`)."""
