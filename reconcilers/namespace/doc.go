// Package namespace is the namespace controller: a Namespace marked
// deleting (the API marks it so and sets status.phase Terminating) is
// emptied, every object of every namespaced kind deleted (pods
// gracefully: their nodes confirm), and then removed for good. New
// objects cannot appear meanwhile: the write path refuses creations in a
// terminating namespace.
package namespace
