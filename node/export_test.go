package node

// SendNoPeerCredential makes the node of cfg send no peer credential, as a
// binary from before the credential does.
func SendNoPeerCredential(cfg *Config) { cfg.Auth.sendNoPeerCredential = true }
