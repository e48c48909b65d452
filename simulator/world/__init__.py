"""The hidden world: the true population and what each agency records about it.

Population, identities, agencies' events and registers, the errors they make, the
generation of a whole dataset, and the true links. Only the pipeline and the audit
read it; the council side (:mod:`simulator.council`) never imports it.
"""
