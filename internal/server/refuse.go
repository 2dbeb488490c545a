package server

import (
	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/governance"
	"github.com/switchyard-db/switchyard/internal/protocol"
)

// loginLogPerSecond bounds the "login refused" log lines; the rest are
// counted and reported with the next line let through.
const loginLogPerSecond = 5

// checkHost returns the check of the client's address that runs before
// its password is verified.
func (s *Server) checkHost(host string) func(*config.Namespace, *config.User) error {
	return func(ns *config.Namespace, u *config.User) error {
		if e := governance.CheckHost(ns, u, host); e != nil {
			return e
		}
		return nil
	}
}

// loginRefused counts and logs a login refused during authentication.
func (s *Server) loginRefused(id uint32, user, host string, pe *protocol.Error) {
	switch pe.Code {
	case 1129:
		s.env.Metrics.LoginRefused("blocked_host")
	case 4151:
		s.env.Metrics.LoginRefused("blocked_user")
	case 1130:
		s.env.Metrics.LoginRefused(string(governance.RefusedHost))
	default:
		if ns, _, ok := s.env.Current().Config.UserNamespace(user); ok {
			s.env.Metrics.Namespace(ns.Name).AuthFailure()
		} else {
			s.env.Metrics.AuthFailureUnknownUser()
		}
	}
	s.logRefusal(id, user, host, pe.Message)
}

// logRefusal writes the rate-limited "login refused" line.
func (s *Server) logRefusal(id uint32, user, host, reason string) {
	ok, suppressed := s.loginLog.Allow()
	if !ok {
		return
	}
	if suppressed > 0 {
		s.log.Info("login refused", "conn", id, "user", user, "host", host, "err", reason, "suppressed", suppressed)
		return
	}
	s.log.Info("login refused", "conn", id, "user", user, "host", host, "err", reason)
}
