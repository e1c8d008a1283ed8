// Package backend holds what nabla's backends (device/cpu and device/cuda)
// share but what is no part of the device contract that a user or a third
// party backend sees: the validation of every fused operation's operands
// (Check*), which both backends run before they touch memory so that they
// fail alike; the reference Philox4x32-10 streams and the dropout mask
// derived from them; the sorting network for a backend without a sort
// kernel; and the small rules that package tensor also applies before it
// dispatches (OptimStates, BiasOnly, UnaryBackwardSupported).
package backend
