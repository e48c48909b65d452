"""The UK's Algorithmic Transparency Recording Standard (ATRS): its sections and fields.

Version 3.0 of the standard (GOV.UK,
https://www.gov.uk/government/collections/algorithmic-transparency-recording-standard-hub)
has a metadata section, a Tier 1 overview for the public and five Tier 2 sections for
specialists. :data:`ATRS_SECTIONS` lists them with the standard's field numbers
and names (Tier 1 and section 2.1 checked against a secondary source; the metadata,
1.1 and sections 2.2 to 2.5 not checked against the template: docs/transparency.md,
"Which field numbers were checked"); :data:`OWNER_ONLY` the fields only a tool's
owner can fill and :data:`SIMULATION_ONLY` those a simulation fills and a table
cannot tell. :mod:`audits.transparency` fills them.
"""

from __future__ import annotations

STANDARD = {
    "name": "Algorithmic Transparency Recording Standard (ATRS)",
    "version": "3.0",
    "publisher": "UK Government",
    "url": "https://www.gov.uk/government/collections/"
    "algorithmic-transparency-recording-standard-hub",
}
"""The standard this record follows."""

ATRS_SECTIONS: tuple[tuple[str, str, str, tuple[tuple[str, str, str], ...]], ...] = (
    (
        "metadata",
        "Metadata",
        "Metadata and title information",
        (
            ("0.1", "title", "Title"),
            ("0.2", "organisation", "Organisation or department"),
            ("0.3", "function", "Function"),
            ("0.4", "geographic_region", "Geographic region"),
        ),
    ),
    (
        "tier_1",
        "Tier 1",
        "Overview",
        (
            ("1.1", "name", "Name"),
            ("1.2", "description", "Description"),
            ("1.3", "website", "Website URL"),
            ("1.4", "contact_email", "Contact email"),
        ),
    ),
    (
        "owner_and_responsibility",
        "Tier 2",
        "Owner and responsibility",
        (
            ("2.1.1", "organisation", "Organisation or department"),
            ("2.1.2", "team", "Team"),
            ("2.1.3", "senior_responsible_owner", "Senior responsible owner"),
            ("2.1.4", "external_supplier_involvement", "External supplier involvement"),
            ("2.1.4.1", "external_supplier", "External supplier"),
            ("2.1.4.2", "companies_house_number", "Companies House number"),
            ("2.1.4.3", "external_supplier_role", "External supplier role"),
            ("2.1.4.4", "procurement_procedure_type", "Procurement procedure type"),
            ("2.1.4.5", "data_access_terms", "Data access terms"),
        ),
    ),
    (
        "description_and_rationale",
        "Tier 2",
        "Description and rationale",
        (
            ("2.2.1", "detailed_description", "Detailed description"),
            ("2.2.2", "scope", "Scope"),
            ("2.2.3", "benefit", "Benefit"),
            ("2.2.4", "previous_process", "Previous process"),
            ("2.2.5", "alternatives_considered", "Alternatives considered"),
        ),
    ),
    (
        "decision_making_process",
        "Tier 2",
        "Decision-making process",
        (
            ("2.3.1", "process_integration", "Process integration"),
            ("2.3.2", "provided_information", "Provided information"),
            ("2.3.3", "frequency_and_scale_of_usage", "Frequency and scale of usage"),
            ("2.3.4", "human_decisions_and_review", "Human decisions and review"),
            ("2.3.5", "required_training", "Required training"),
            ("2.3.6", "appeals_and_review", "Appeals and review"),
        ),
    ),
    (
        "tool_specification",
        "Tier 2",
        "Tool specification",
        (
            ("2.4.1", "system_architecture", "System architecture"),
            ("2.4.2", "phase", "Phase"),
            ("2.4.3", "maturity", "Maturity"),
            ("2.4.4.1", "model_name", "Model name"),
            ("2.4.4.2", "model_version", "Model version"),
            ("2.4.4.3", "model_task", "Model task"),
            ("2.4.4.4", "model_input", "Model input"),
            ("2.4.4.5", "model_output", "Model output"),
            ("2.4.4.6", "model_architecture", "Model architecture"),
            ("2.4.4.7", "model_performance", "Model performance"),
            ("2.4.4.8", "datasets", "Datasets"),
            ("2.4.4.9", "dataset_purposes", "Dataset purposes"),
            ("2.4.5.1", "source_data_name", "Source data name"),
            ("2.4.5.2", "data_modality", "Data modality"),
            ("2.4.5.3", "data_description", "Data description"),
            ("2.4.5.4", "data_quantities", "Data quantities"),
            ("2.4.5.5", "sensitive_attributes", "Sensitive attributes"),
            (
                "2.4.5.6",
                "data_completeness_and_representativeness",
                "Data completeness and representativeness",
            ),
            ("2.4.5.7", "source_data_url", "Source data URL"),
            ("2.4.5.8", "data_collection", "Data collection"),
            ("2.4.5.9", "data_cleaning", "Data cleaning"),
            ("2.4.5.10", "data_sharing_agreements", "Data sharing agreements"),
            ("2.4.5.11", "data_access_and_storage", "Data access and storage"),
        ),
    ),
    (
        "risks_mitigations_and_impact_assessments",
        "Tier 2",
        "Risks, mitigations and impact assessments",
        (
            ("2.5.1", "impact_assessment", "Impact assessment"),
            ("2.5.2", "risks", "Risks"),
        ),
    ),
)
"""ATRS sections in order: (key, tier, title, ((number, field, name), ...))."""

OWNER_ONLY = (
    "metadata.organisation",
    "metadata.geographic_region",
    "tier_1.website",
    "tier_1.contact_email",
    *(f"owner_and_responsibility.{f}" for _, f, _ in ATRS_SECTIONS[2][3]),
    "description_and_rationale.benefit",
    "description_and_rationale.previous_process",
    "description_and_rationale.alternatives_considered",
    "decision_making_process.process_integration",
    "decision_making_process.human_decisions_and_review",
    "decision_making_process.required_training",
    "decision_making_process.appeals_and_review",
    "tool_specification.data_sharing_agreements",
    "tool_specification.data_access_and_storage",
    "risks_mitigations_and_impact_assessments.impact_assessment",
)
"""Fields (``section.field``) only the organisation that owns a tool can fill."""

SIMULATION_ONLY = (
    "metadata.function",
    "tier_1.name",
    "tier_1.description",
    "description_and_rationale.detailed_description",
    "tool_specification.system_architecture",
    "tool_specification.phase",
    "tool_specification.maturity",
    "tool_specification.model_name",
    "tool_specification.model_task",
    "tool_specification.model_input",
    "tool_specification.model_architecture",
    "tool_specification.datasets",
    "tool_specification.dataset_purposes",
    "tool_specification.data_collection",
    "tool_specification.data_cleaning",
    "tool_specification.source_data_url",
)
"""Fields a run fills from its simulation and a table cannot tell."""
