"""Import the prebuilt provider packages without importing every one of their submodules.

Why: ``import cdktf_cdktf_provider_aws`` (which ``from cdktf_cdktf_provider_aws.vpc import
Vpc`` triggers first) runs the package's ``__init__``, and that imports all 2,212 resource
submodules of the aws provider (azurerm: 1,527, kubernetes: 109) only to register them.
Profiling a synth (``make bench`` / cProfile) shows that this Python-side import, not the
jsii assembly load into node nor building the stacks, is most of the cost: building ~80,000
typing objects, unmarshalling 2,000+ .pyc files and 2,000+ ``importlib.metadata.version``
calls, ~600 MB of Python heap for aws alone.

How: a meta-path finder takes over the four root packages and executes only
``<package>._jsii``, which loads the jsii assembly into node exactly as the original
``__init__`` does (so every type is known to the jsii kernel); each resource submodule is
imported when a stack imports it. The root ``__init__`` defines no classes (only the
submodule list), so nothing else is lost. jsii resolves an object node returns by its
registered Python class, and the jsii runtime (1.142) imports the submodule of a type not
registered yet on demand (``jsii._reference_map._try_import_type_module``, its support for
lazily loaded submodules). The synthesised JSON is identical (all 17 stacks compared) and
the test suite passes the same with it.

The node side has the same problem: the jsii kernel requires each provider's JavaScript
package, whose index requires every resource module (~1.2 GB of the node process in a full
synth). ``lazy_provider_exports.js``, preloaded into that node through ``NODE_OPTIONS``, makes
those requires happen on first use (see its header).

``iworkz/__init__.py`` calls :func:`install` before any provider is imported (jsii starts node
on the first cdktf import). jsii is pinned exactly in pyproject.toml because this relies on its
on-demand submodule import.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from iworkz import jsii_node

PROVIDER_PACKAGES = frozenset(
    {
        "cdktf_cdktf_provider_aws",
        "cdktf_cdktf_provider_azurerm",
        "cdktf_cdktf_provider_kubernetes",
        "cdktf_cdktf_provider_helm",
        "cdktf_cdktf_provider_azuread",
        "cdktf_cdktf_provider_cloudflare",
        "cdktf_cdktf_provider_tfe",
    }
)
NODE_PRELOAD = Path(__file__).with_name("lazy_provider_exports.js")


class _AssemblyOnlyLoader(importlib.abc.Loader):
    """Executes a provider root package as just its jsii assembly load."""

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None  # the default module, with __path__ from the spec: submodules import normally

    def exec_module(self, module: ModuleType) -> None:
        importlib.import_module(f"{module.__name__}._jsii")


class LazyProviderFinder(importlib.abc.MetaPathFinder):
    @classmethod
    def find_spec(
        cls, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in PROVIDER_PACKAGES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.submodule_search_locations is None:
            return None
        spec.loader = _AssemblyOnlyLoader()
        return spec

    @classmethod
    def invalidate_caches(cls) -> None:
        """Registered as a class: importlib.invalidate_caches() calls this on the class itself."""


def install() -> None:
    """Makes the provider packages lazy in Python and in the jsii node (no effect once loaded)."""
    if LazyProviderFinder not in sys.meta_path:
        sys.meta_path.insert(0, LazyProviderFinder)
    jsii_node.preload(NODE_PRELOAD)
