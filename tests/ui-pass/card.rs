// The design card's line compiles exactly as written.

use macrograd::prelude::*;

fn main() {
    let mut model = model! { Linear(10,1); loss MSE; optim SGD(0.01) };
    let inputs = Array2::<f32>::zeros((4, 10));
    assert_eq!(model.forward(&inputs).dim(), (4, 1));
}
