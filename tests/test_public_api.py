import importlib
import pkgutil

import symattn


def test_every_public_name_exists():
    for name in symattn.__all__:
        assert hasattr(symattn, name), name


def test_every_module_declares_all():
    for info in pkgutil.iter_modules(symattn.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"symattn.{info.name}")
        assert hasattr(module, "__all__"), info.name
        for name in module.__all__:
            assert hasattr(module, name), f"{info.name}.{name}"


def test_package_reexports_core_names():
    for name in ("Dataset", "Sample", "load_dataset", "save_dataset", "priority_graphs", "realise"):
        assert name in symattn.__all__
