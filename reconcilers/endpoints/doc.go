// Package endpoints is the endpoints controller: for every Service with a
// selector it keeps an Endpoints object of the same name listing the
// pods the selector matches.
//
// Ready pods go in addresses, the others in notReadyAddresses (all in
// addresses when the service sets publishNotReadyAddresses). Pods being
// deleted (deletionTimestamp set), finished, or without an IP are left
// out at once. Named targetPorts are resolved per pod; a port name no pod
// has yields no endpoint port and an Event on the Service. Services
// without a selector are left alone, so user-written Endpoints stay. The
// core (Desired) is pure; the reconciler writes only when the result
// differs from the stored Endpoints.
package endpoints
