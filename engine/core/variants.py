"""Variant tables of the deep estimators: one table per class, one resolver, one fitted ``settings_``."""

from __future__ import annotations

from .errors import ParameterError
from .params import Choices, check_value, validate_params


class VariantChoices(Choices):
    """The variant names in the table's order (the dialog's options), also accepting the old names in ``aliases``."""

    def __init__(self, table, aliases=None):
        super().__init__(table)
        self.aliases = dict(aliases or {})

    def is_satisfied_by(self, value) -> bool:
        return super().is_satisfied_by(value) or value in self.aliases


class VariantMixin:
    """Settings of an estimator from its class table ``VARIANTS`` (variant name -> every setting).

    An ``__init__`` parameter that is not None overrides its entry; the entries without a parameter are
    overridden through the ``settings`` dict. ``fit`` stores the result as ``settings_``.
    """

    VARIANTS: dict = {}
    ALIASES: dict = {}  # old variant name -> its name in VARIANTS

    @classmethod
    def build(cls, *args, **kwargs):
        """An estimator from keyword arguments that may name any setting: those that are not ``__init__``
        parameters go into ``settings``."""
        params = set(cls._get_param_names())
        extra = {name: kwargs.pop(name) for name in list(kwargs) if name not in params}
        if extra:
            kwargs["settings"] = {**(kwargs.get("settings") or {}), **extra}
        return cls(*args, **kwargs)

    @classmethod
    def variant_settings(cls, variant: str = "default") -> dict:
        """A copy of the settings of ``variant`` (an old name is mapped by ``ALIASES``)."""
        name = cls.ALIASES.get(variant, variant)
        if name not in cls.VARIANTS:
            raise ParameterError(f"variant must be one of {tuple(cls.VARIANTS)}, got {variant!r}")
        return dict(cls.VARIANTS[name])

    def resolved_settings(self) -> dict:
        """The variant's settings, overridden by ``settings`` and by every parameter not None (validated)."""
        validate_params(self)
        out = self.variant_settings(self.variant)
        params = self.get_params(deep=False)
        extra = dict(self.settings or {})
        unknown = sorted(set(extra) - set(out))
        if unknown:
            raise ParameterError(f"{type(self).__name__} has no setting {unknown}; its settings: {sorted(out)}")
        named = sorted(set(extra) & set(params))
        if named:
            raise ParameterError(f"{named} are {type(self).__name__} parameters: pass them as such, not in settings")
        for name, value in extra.items():
            check_value(type(self), name, value)
        out.update(extra)
        out.update({key: value for key, value in params.items() if key in out and value is not None})
        return self._finish_settings(out)

    def _finish_settings(self, settings: dict) -> dict:
        """Casts and checks across settings, per estimator."""
        return settings
