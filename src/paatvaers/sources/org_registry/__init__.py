"""FK Organisation (Fælleskommunalt Organisationssystem) over its GraphQL service
`OrganisationHent`: the municipal child/family and PPR units and the staff who work in them."""
