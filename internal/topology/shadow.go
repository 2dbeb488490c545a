package topology

// buildShadow builds the shadow side of ns from its configuration: a
// namespace of the same name, settings and rules whose slices are the
// shadow slices, with pools of their own. old is the running namespace
// during a reload (its shadow side's nodes keep their pools and state as
// production nodes do).
func (ns *Namespace) buildShadow(old *Namespace) error {
	sc := ns.Config.ShadowConfig()
	if sc == nil {
		return nil
	}
	var prev *Namespace
	if old != nil {
		prev = old.Shadow
	}
	sh, err := newNamespace(sc, prev)
	if err != nil {
		return err
	}
	sh.Production = ns
	ns.Shadow = sh
	return nil
}

// IsShadow reports whether ns is the shadow side of a namespace.
func (ns *Namespace) IsShadow() bool { return ns.Production != nil }

// Side returns the production namespace (shadow false) or its shadow side
// (true) of the namespace ns belongs to; nil when there is no shadow side.
func (ns *Namespace) Side(shadow bool) *Namespace {
	prod := ns
	if ns.Production != nil {
		prod = ns.Production
	}
	if shadow {
		return prod.Shadow
	}
	return prod
}
