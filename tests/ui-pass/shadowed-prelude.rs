// Rule: generated code names std through `::core::`/`::std::` and the runtime
// through `$crate`, never through a bare `Result`, `Vec`, `Option`, ... Why:
// the macro expands in the user's module, where any of these names, and even
// modules called `core`, `std` or `macrograd`, may be the user's own.

mod shadows {
    #![allow(dead_code)]

    // Modules named like the crates the generated code uses: only absolute
    // paths (`::core`, `::std`, `$crate`) still reach the real ones.
    mod core {}
    mod std {}
    mod macrograd {}

    use ::macrograd::prelude::*;

    type Result = ();
    struct Vec;
    enum Option {}
    struct Some;
    struct None;
    struct Ok;
    struct Err;
    struct Box;
    struct String;
    struct Default;
    struct Clone;
    trait Iterator {}
    trait IntoIterator {}
    trait Into {}
    trait From {}

    model! {
        /// A regression model declared next to the shadows.
        pub struct Net;
        input 4;
        Linear(_, 8);
        ReLU;
        Linear(_, 1);
        loss MSE;
        optim SGD(0.01, momentum = 0.9)
    }

    pub fn run() {
        let mut net = Net::new();
        net.forward(&Array2::<f32>::zeros((2, 4)));
        let loss = net.loss(&Array2::<f32>::zeros((2, 1)));
        assert!(loss.is_finite());
        net.zero_grad();
        net.backward();
        net.step();
        assert_eq!(net.summary().params(), 4 * 8 + 8 + 8 + 1);
        let loss = net.train_step_rows(&[[0.5; 4]], &[[1.0]]);
        assert!(loss.is_finite());

        let mut classifier = model! {
            dtype f64;
            Linear(4, 8);
            GELU;
            Linear(8, 3);
            loss CrossEntropy(label_smoothing = 0.1);
            optim Adam(lr = 1e-3, amsgrad = true)
        };
        classifier.forward(&Array2::<f64>::zeros((2, 4)));
        let loss: f64 = classifier.loss(&[0usize, 2]);
        assert!(loss.is_finite());
        classifier.zero_grad();
        classifier.backward();
        classifier.step();
        assert_eq!(classifier.summary().params(), 4 * 8 + 8 + 8 * 3 + 3);
        let predictions = classifier.predict_rows(&[[0.0; 4]]);
        assert_eq!(predictions.len(), 1);

        let mut cnn = model! {
            input [1, 6, 6];
            Dropout(0.1);
            Conv2d(1, 2, 3, padding = 1);
            BatchNorm;
            ReLU;
            AvgPool2d(2);
            MaxPool2d(3, stride = 1, padding = 1);
            LayerNorm;
            Flatten;
            Linear(_, 2);
            loss CrossEntropy;
            optim SGD(0.1)
        };
        cnn.forward(&Array2::<f32>::ones((2, 36)));
        let loss = cnn.loss(&[0usize, 1]);
        assert!(loss.is_finite());
        cnn.zero_grad();
        cnn.backward();
        cnn.step();
        let probabilities = cnn.predict_proba(&Array2::<f32>::ones((1, 36)));
        assert!((probabilities.sum() - 1.0).abs() < 1e-5);
        let mut buffers = 0;
        cnn.visit_buffers(&mut |_| buffers += 1);
        assert_eq!(buffers, 3);
    }
}

fn main() {
    shadows::run();
}
