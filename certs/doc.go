// Package certs is the cluster's public key infrastructure on disk: a
// cluster certificate authority, node and client certificates signed by
// it, admin bearer tokens, and the TLS configurations that use them. It
// speaks files and crypto/tls only; the node wires its configurations to
// the listeners and the peer connections.
//
// A certificates directory holds:
//
//	ca.crt                 the cluster CA (every node and client trusts it)
//	ca.key                 its key: kept by the operator, not needed by nodes
//	node.crt, node.key     a node's certificate (server and client; its hosts)
//	client.NAME.crt/.key   an operator's client certificate (admin user NAME)
//	admin-tokens           bearer tokens for the admin endpoint, one a line
//
// Keys are ECDSA P-256 and written 0600. A certificate's organizational
// unit says its role (RoleNode, RoleClient): the peer port accepts nodes
// only, so a client certificate cannot join a cluster.
//
//	certs.CreateCA(dir, certs.Options{})
//	certs.CreateNode(dir, out, []string{"10.0.0.1", "db1.example"}, certs.Options{})
//	pair, _ := certs.NewKeyPair(out+"/node.crt", out+"/node.key", log)
//	pool, _ := certs.LoadPool(out + "/ca.crt")
//	srv := certs.PeerServerTLS(pair, pool, log) // mutual TLS, nodes only
//
// A KeyPair reads its files again when they change (rotation without a
// restart); the CA pool is read once.
package certs
