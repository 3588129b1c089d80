/*
Copyright 2026 The asyncjob Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package webhook

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"syscall"
)

// ErrRefusedDestination: a webhook URL, or the address its host resolves to,
// is one asyncjob does not send to.
var ErrRefusedDestination = errors.New("webhook destination refused")

// refused are the address ranges a tenant must not reach through the
// operator's network (server-side request forgery): loopback, private,
// link-local (cloud metadata endpoints), carrier-grade NAT, unspecified and
// multicast addresses, IPv4 and IPv6.
var refused = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("224.0.0.0/3"),
	netip.MustParsePrefix("::/128"),
	netip.MustParsePrefix("::1/128"),
	netip.MustParsePrefix("fc00::/7"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("ff00::/8"),
}

// Policy says which destinations webhooks may reach. The zero Policy refuses
// the ranges above and allows every other address.
type Policy struct {
	// Allowed are ranges allowed even though they are refused by default: an
	// operator's own receivers on a private network, or a test's on loopback.
	Allowed []netip.Prefix
}

// ParsePolicy builds a Policy from CIDRs such as "10.1.0.0/16" (a flag's value).
func ParsePolicy(cidrs []string) (Policy, error) {
	var p Policy
	for _, c := range cidrs {
		prefix, err := netip.ParsePrefix(c)
		if err != nil {
			return Policy{}, fmt.Errorf("webhook allowed range %q: %w", c, err)
		}
		p.Allowed = append(p.Allowed, prefix.Masked())
	}
	return p, nil
}

// CheckAddr refuses an address in a refused range that no allowed range covers.
func (p Policy) CheckAddr(a netip.Addr) error {
	a = a.Unmap()
	for _, ok := range p.Allowed {
		if ok.Contains(a) {
			return nil
		}
	}
	for _, bad := range refused {
		if bad.Contains(a) {
			return ErrRefusedDestination
		}
	}
	return nil
}

// CheckURL validates a webhook URL as submitted: absolute http or https,
// a host, no user information, and a host that is not a refused address
// literal. A host name is checked when it is dialled (Control), since what it
// resolves to can change.
func (p Policy) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL")
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("the scheme must be https or http")
	}
	if u.User != nil {
		return fmt.Errorf("the URL must not carry user information")
	}
	if u.Hostname() == "" {
		return fmt.Errorf("the URL has no host")
	}
	if u.Fragment != "" {
		return fmt.Errorf("the URL must not have a fragment")
	}
	if a, err := netip.ParseAddr(u.Hostname()); err == nil {
		if err := p.CheckAddr(a); err != nil {
			return fmt.Errorf("the host is an address webhooks are not sent to")
		}
	}
	return nil
}

// Control is a net.Dialer Control function that refuses to connect to a
// refused address, whatever name resolved to it: this is what stops a name
// that resolves to loopback, or changes to it after the URL was accepted.
func (p Policy) Control(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return ErrRefusedDestination
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return ErrRefusedDestination
	}
	return p.CheckAddr(a)
}
