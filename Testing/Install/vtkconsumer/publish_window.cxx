// SPDX-License-Identifier: BSD-3-Clause
// A C++ VTK program built against the installed plugin's VTK module: serves
// an image with vtkSharedMemoryImageWriter, reads it back with
// vtkSharedMemoryImageSource, and compares every value.
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkSharedMemoryImageSource.h>
#include <vtkSharedMemoryImageWriter.h>
#include <vtkSharedMemoryRenderWindowPublisher.h>
#include <vtkUnsignedCharArray.h>

#include <cstdio>
#include <cstring>

int main(int argc, char* argv[])
{
  if (argc != 2)
    return 2;
  vtkNew<vtkImageData> image;
  image->SetDimensions(37, 21, 1);
  image->AllocateScalars(VTK_UNSIGNED_CHAR, 3);
  auto* in = static_cast<unsigned char*>(image->GetScalarPointer());
  for (int i = 0; i < 37 * 21 * 3; i++)
    in[i] = static_cast<unsigned char>(i * 7 + 3);

  vtkNew<vtkSharedMemoryImageWriter> writer;
  writer->SetFileName(argv[1]);
  writer->SetInputData(image);
  writer->Write();

  vtkNew<vtkSharedMemoryImageSource> source;
  source->SetFileName(argv[1]);
  source->Update();
  vtkImageData* out = source->GetOutput();
  int dims[3];
  out->GetDimensions(dims);
  if (dims[0] != 37 || dims[1] != 21 || dims[2] != 1)
  {
    std::fprintf(stderr, "read back %dx%dx%d, expected 37x21x1\n", dims[0], dims[1], dims[2]);
    return 1;
  }
  if (std::memcmp(out->GetScalarPointer(), in, 37 * 21 * 3) != 0)
  {
    std::fprintf(stderr, "pixels differ after the round trip\n");
    return 1;
  }
  vtkNew<vtkSharedMemoryRenderWindowPublisher> publisher; // links and constructs
  std::printf("C++ VTK consumer: 37x21 RGB image round trip exact\n");
  return 0;
}
