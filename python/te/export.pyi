from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Union
import os

from te import Module

class ExportedLibrary(NamedTuple):
    library: str
    header: str
    manifest: str
    kernels: List[str]

def export_library(funcs: Union[Module, Sequence[Module]], path: Union[str, os.PathLike],
                   prefix: Optional[str] = None) -> ExportedLibrary: ...
def export_tuning_log(log: Union[str, os.PathLike], path: Union[str, os.PathLike],
                      ops: Optional[Union[str, Sequence[str]]] = None, target: str = "llvm",
                      prefix: Optional[str] = None) -> ExportedLibrary: ...
def host_cpu_features() -> List[str]: ...

class LoadedKernel:
    name: str
    info: Dict[str, Any]
    @property
    def args(self) -> List[Dict[str, Any]]: ...
    @property
    def workload_key(self) -> Optional[str]: ...
    def __call__(self, *arrays: Any) -> None: ...

class KernelLibrary:
    path: str
    manifest: Dict[str, Any]
    kernels: Dict[str, LoadedKernel]
    def __getitem__(self, name: str) -> LoadedKernel: ...
    def __getattr__(self, name: str) -> LoadedKernel: ...

def parse_manifest(data: Union[bytes, str], where: str = ...) -> Dict[str, Any]: ...
def read_manifest(path: Union[str, os.PathLike]) -> Dict[str, Any]: ...
def load_module(path: Union[str, os.PathLike]) -> KernelLibrary: ...
