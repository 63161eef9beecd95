"""The claims the test provider sends: address, whether it is verified, name, and groups (the
person's Django groups here, as Entra sends group ids)."""

from oauth2_provider.oauth2_validators import OAuth2Validator


class ClaimsValidator(OAuth2Validator):
    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "groups": "profile"}

    def get_additional_claims(self, request) -> dict:
        user = request.user
        return {
            "email": user.email,
            # The test users mark an unverified address with a last name of "unverified".
            "email_verified": user.last_name != "unverified",
            "given_name": user.first_name,
            "preferred_username": user.username,
            "groups": sorted(user.groups.values_list("name", flat=True)),
        }
