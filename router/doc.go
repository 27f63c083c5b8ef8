// Package router holds the routing core's decisions, all pure and in memory: which category a
// message belongs to (Classifier), which comune it concerns (ComuneResolver), which queue takes it
// and when its SLA falls due (Queues, SLADue), whether the centre is open (Hours), which operator
// gets it (Pick, Drain) and when an overdue contact is escalated (Escalation).
//
// Nothing here does I/O or keeps mutable state between calls: every type is built once from the
// configuration and is then safe for concurrent use, so the ingest pipeline and the assignment
// worker can call it on every contact without locks.
package router
