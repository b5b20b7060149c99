// Package dns is Strom's cluster DNS server. It answers the records of the
// Kubernetes DNS-Based Service Discovery specification (schema 1.1.0) for a
// cluster zone (cluster.local by default) from a slim read model of services
// and endpoints, and forwards every other name to upstream resolvers through a
// small TTL-bounded cache.
//
// The rest of Strom feeds a Store (UpsertService, UpsertEndpoints, ...); the
// Store precomputes the answer of every name when the model changes, so a
// query costs a map lookup and a copy of precomputed wire bytes. Server serves
// a Store over UDP and TCP.
package dns
