// The private compiled module plsim._core; the pure-Python package plsim wraps it.
#include <pybind11/pybind11.h>

namespace py = pybind11;

void bind_scenario(py::module_& m);
void bind_sim(py::module_& m);
void bind_bkt(py::module_& m);

PYBIND11_MODULE(_core, m) {
  m.doc() = "plsim engine (private): use the plsim package instead";
  bind_scenario(m);
  bind_sim(m);
  bind_bkt(m);
}
