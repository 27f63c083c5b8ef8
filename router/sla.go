package router

import "time"

// DefaultEscalationStep is how much an overdue contact's priority rises when Escalation.Step is
// 0. Queue priorities are small numbers (the defaults are 0 to 2), so a step of 10 puts every
// overdue contact ahead of every contact still within its SLA, while overdue contacts keep
// their queues' order among themselves.
const DefaultEscalationStep = 10

// Overdue reports whether a contact whose SLA falls due at slaDue is late at now. A contact
// without an SLA (zero slaDue) is never overdue; at slaDue itself it is still on time.
func Overdue(now, slaDue time.Time) bool {
	return !slaDue.IsZero() && now.After(slaDue)
}

// Escalation is the rule for overdue contacts: once a contact's SLA has passed while it still
// waits, its priority is raised by Step, once (the contact's Escalated flag records it, so a
// periodic sweep does not raise it again and again). Drain serves higher priorities first.
type Escalation struct {
	// Step is added to the priority of an overdue contact; 0 means DefaultEscalationStep.
	// A negative step is treated as 0 would be.
	Step int
}

// Apply returns the contact's priority and escalated flag after the rule: unchanged unless the
// contact is overdue at now and not escalated yet.
func (e Escalation) Apply(now, slaDue time.Time, priority int, escalated bool) (newPriority int, nowEscalated bool) {
	if escalated || !Overdue(now, slaDue) {
		return priority, escalated
	}
	step := e.Step
	if step <= 0 {
		step = DefaultEscalationStep
	}
	return priority + step, true
}
