"""Reading articles in: a corpus folder (`corpus`), web pages, PDFs and feeds by their libraries
(`documents`: `html`, `pdf`, `feed`), links (`fetch`, `links`), cleaning (`clean`), upload limits
(`limits`), sentence and passage splitting (`passages`), tokens (`text`, `tokens`)."""
