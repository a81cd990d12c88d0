"""Config flow for Sequence."""

from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult

from .const import DOMAIN


class SequenceConfigFlow(ConfigFlow, domain=DOMAIN):
    """Handle a config flow for Sequence."""

    VERSION = 1

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:  # noqa: ARG002
        """Handle the user step."""
        return self.async_abort(reason="not_implemented")
