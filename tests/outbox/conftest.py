from tests.release.conftest import _release_sandbox, tenant_unit  # noqa: F401
