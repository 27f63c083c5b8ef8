package alertstore

// PrepareChunkFor is prepareChunkFor, for tests.
var PrepareChunkFor = prepareChunkFor
