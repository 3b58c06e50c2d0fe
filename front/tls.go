package front

import (
	"crypto/tls"
	"fmt"
	"strings"
)

// certSet holds the certificates of one https listener by host name.
type certSet struct {
	byHost map[string]*tls.Certificate
	any    *tls.Certificate
}

func loadCerts(pairs []certPair) (*certSet, error) {
	cs := &certSet{byHost: map[string]*tls.Certificate{}}
	for _, p := range pairs {
		c, err := tls.LoadX509KeyPair(p.certFile, p.keyFile)
		if err != nil {
			return nil, fmt.Errorf("load certificate %s and key %s: %w", p.certFile, p.keyFile, err)
		}
		if p.host == "" {
			cs.any = &c
		} else {
			cs.byHost[strings.ToLower(p.host)] = &c
		}
		if cs.any == nil {
			cs.any = &c
		}
	}
	return cs, nil
}

// pick returns the certificate for the SNI name, else the any-host one.
func (cs *certSet) pick(name string) *tls.Certificate {
	if c, ok := cs.byHost[strings.ToLower(name)]; ok {
		return c
	}
	return cs.any
}

// swapCerts loads the certificates of pairs and makes the listener's next
// handshakes use them; connections already open keep theirs. On error the
// listener keeps the certificates it had. Called with Front.mu held.
func (l *listener) swapCerts(pairs []certPair) error {
	cs, err := loadCerts(pairs)
	if err != nil {
		return err
	}
	l.certs = pairs
	l.certSet.Store(cs)
	return nil
}
