// Package layering holds no code: its test keeps the direction data flows in (adapter →
// channels model → store → router → inbox and alerts) by failing when a package imports one it
// must not.
package layering
