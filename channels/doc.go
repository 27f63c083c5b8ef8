// Package channels is Sportello's one contact model: the contact, its thread of messages, the
// citizen and their identities, attachments, and the small interfaces every channel adapter
// implements. It imports nothing else of Sportello's, so every other package can depend on it.
package channels
