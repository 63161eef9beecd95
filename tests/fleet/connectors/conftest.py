import pytest

from fleet.connectors.models import Connector
from tests.fleet.connectors.microsoft_server import (  # noqa: F401 - fixture
    CLIENT_ID,
    CLIENT_SECRET,
    ENTRA_TENANT,
    WORKSPACE,
    microsoft,
)


@pytest.fixture(autouse=True)
def _no_poll_wait(settings):
    """The stand-in finishes a job at its first poll: no need to wait between polls."""
    settings.CONNECTOR_POLL_SECONDS = 0


@pytest.fixture
def connector(tenant, microsoft) -> Connector:  # noqa: F811 - the fixture above
    connector = Connector(
        tenant=tenant, entra_tenant_id=ENTRA_TENANT, client_id=CLIENT_ID, workspace_id=WORKSPACE
    )
    connector.set_client_secret(CLIENT_SECRET)
    connector.save()
    return connector
