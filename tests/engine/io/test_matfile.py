import numpy as np
import pytest
import scipy.io as sio

from deepunmix.engine.io.matfile import default_data_dir, load_mat_dataset, samson, samson_rasti

DATA = default_data_dir()
L, H, W, P = 6, 4, 5, 3


def _truth():
    rng = np.random.default_rng(0)
    cube = rng.random((L, H, W))
    A = rng.dirichlet(np.ones(P), size=H * W).T.reshape(P, H, W)
    E = rng.random((L, P))
    return cube, A, E


def test_zhu_format_column_major(tmp_path):
    cube, A, E = _truth()
    V = cube.transpose(1, 2, 0).reshape(H * W, L, order="F").T  # MATLAB column-major pixels
    An = A.transpose(1, 2, 0).reshape(H * W, P, order="F").T
    assert V[:, 1][0] == cube[0, 1, 0]  # pixel 1 = (row 1, col 0)
    sio.savemat(tmp_path / "img.mat", {"V": V, "nRow": H, "nCol": W, "nBand": L})
    sio.savemat(tmp_path / "gt.mat", {"A": An, "M": E, "cood": np.array(["a", "b", "c"], dtype=object)})
    ds = load_mat_dataset(tmp_path / "img.mat", tmp_path / "gt.mat")
    assert ds.cube.dtype == np.float32 and ds.cube.shape == (L, H, W)
    np.testing.assert_allclose(ds.cube, cube, rtol=1e-6)
    np.testing.assert_allclose(ds.abundances, A)
    np.testing.assert_allclose(ds.endmembers, E)
    assert ds.names == ["a", "b", "c"]


def test_hysupp_style_cube(tmp_path):
    cube, A, E = _truth()
    sio.savemat(
        tmp_path / "h.mat",
        {"Y": cube.transpose(1, 2, 0), "A_true": A.transpose(1, 2, 0), "E": E, "wavelength": np.linspace(0.4, 0.9, L)},
    )
    ds = load_mat_dataset(tmp_path / "h.mat")
    np.testing.assert_allclose(ds.cube, cube, rtol=1e-6)
    np.testing.assert_allclose(ds.abundances, A)
    np.testing.assert_allclose(ds.wavelengths, np.linspace(400, 900, L))
    assert ds.names == ["endmember_1", "endmember_2", "endmember_3"]


def test_hysupp_flat_row_major(tmp_path):
    cube, A, E = _truth()
    sio.savemat(tmp_path / "f.mat", {"Y": cube.reshape(L, -1), "A": A.reshape(P, -1), "E": E, "H": H, "W": W})
    ds = load_mat_dataset(tmp_path / "f.mat")
    np.testing.assert_allclose(ds.cube, cube, rtol=1e-6)
    np.testing.assert_allclose(ds.abundances, A)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_mat_dataset(tmp_path / "none.mat")


def test_samson_orientation():
    if not (DATA / "samson" / "samson_1.mat").exists():
        pytest.skip("data absent")
    z = samson(DATA)
    r = samson_rasti(DATA)
    assert z.cube.shape == (156, 95, 95) and z.abundances.shape == (3, 95, 95)
    assert z.names == ["Soil", "Tree", "Water"]
    np.testing.assert_allclose(z.abundances.sum(0), 1.0, atol=1e-9)
    np.testing.assert_allclose(r.abundances.sum(0), 1.0, atol=1e-6)
    # the two references disagree in detail but must agree in orientation (transposed: r < 0.6)
    for k in range(3):
        c = np.corrcoef(z.abundances[k].ravel(), r.abundances[k].ravel())[0, 1]
        assert c > 0.8, (k, c)
    # water is dark: its map anti-correlates with brightness
    bright = z.cube.mean(0).ravel()
    assert np.corrcoef(bright, z.abundances[2].ravel())[0, 1] < -0.7
    # the Rasti endmembers are in data scale and reconstruct the cube
    rec = np.einsum("lp,phw->lhw", r.endmembers, r.abundances)
    assert np.sqrt(np.mean((rec - z.cube) ** 2)) < 0.05
